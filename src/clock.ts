/** The time as whole epoch seconds: the unit of every expiry and timestamp in Gatehouse. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
