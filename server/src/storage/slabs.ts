/**
 * Write buffers shared by every upload of the process. Each socket chunk is copied into a slab as it
 * arrives and can die young; the slabs are reused. (Keeping the chunks until their `pwritev` finished
 * let young-generation GCs promote them, so only full GCs freed them.)
 */
export class SlabPool {
  private readonly free: Buffer[] = [];

  /** `size` bytes per slab; at most `keep` idle slabs are kept for reuse. */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Returns a slab taken from this pool, or any view of one (its whole memory is reused). */
  give(slab: Buffer): void {
    if (this.free.length >= this.keep || slab.buffer.byteLength !== this.size) return;
    this.free.push(slab.length === this.size ? slab : Buffer.from(slab.buffer, 0, this.size));
  }

  get idle(): number {
    return this.free.length;
  }
}
