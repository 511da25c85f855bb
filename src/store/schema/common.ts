/** Times are whole epoch seconds everywhere in the store. */
export type Epoch = number;
