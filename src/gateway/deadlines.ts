/** What a deadline list holds: the links live on the item itself, so adding one allocates nothing. */
export interface Deadlined {
  dlPrev: Deadlined | null;
  dlNext: Deadlined | null;
  /** epoch ms at which the item expires */
  dlAt: number;
  dlList: DeadlineList | null;
}

/**
 * Items that all expire `ms` after they were added, in the order they were added: a FIFO, so
 * only the head can be due. One native timer per list, armed for the head's deadline (to the
 * millisecond); adding and removing an item are a few pointer updates, with no timer object
 * per item. A removed head does not re-arm the timer: when it fires early, it re-arms itself
 * for the new head.
 */
export class DeadlineList {
  private head: Deadlined | null = null;
  private tail: Deadlined | null = null;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly fire = (): void => this.expire();

  constructor(
    readonly ms: number,
    private readonly onExpire: (item: Deadlined) => void,
  ) {}

  /** Adds the item, due `ms` after `now` (epoch ms: the caller's clock reading of this moment). */
  add(item: Deadlined, now: number): void {
    if (item.dlList !== null) item.dlList.remove(item);
    item.dlAt = now + this.ms;
    item.dlList = this;
    item.dlPrev = this.tail;
    item.dlNext = null;
    if (this.tail === null) this.head = item;
    else this.tail.dlNext = item;
    this.tail = item;
    if (this.timer === undefined) this.arm(this.ms);
  }

  remove(item: Deadlined): void {
    if (item.dlList !== this) return;
    const { dlPrev: p, dlNext: n } = item;
    if (p === null) this.head = n;
    else p.dlNext = n;
    if (n === null) this.tail = p;
    else n.dlPrev = p;
    item.dlPrev = item.dlNext = null;
    item.dlList = null;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(delay)));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    let h = this.head;
    while (h !== null && h.dlAt <= now) {
      this.remove(h);
      this.onExpire(h);
      h = this.head;
    }
    if (h !== null) this.arm(h.dlAt - now);
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = null;
  }
}
