/**
 * How the matcher reaches values in a record: a FieldResolver compiles a field name once per
 * target (record kind) into a getter; a RecordView caches what each getter returned for one
 * record, so every rule that reads a field shares one lookup. The resolver belongs to the
 * product layer (field aliases, computed fields); the matcher only calls it.
 */

export interface CompiledField {
  name: string;
  get(record: object, ctx: object): unknown;
  /**
   * The value depends on scan-wide context that is complete only when the input has been read
   * (a role definition read later, an image import): rules reading it are evaluated at the end.
   */
  late?: boolean;
  /**
   * For a late field: whether its value for this record is already final (the role it names is
   * already known, say), so rules need not wait for the end of the input to read it.
   */
  settled?(record: object, ctx: object): boolean;
}

export interface FieldResolver {
  field(target: string, name: string): CompiledField;
  /** Every string of a record, for keyword selections. */
  text(record: object): string[];
}

/** Flattens a resolved value into scalar leaves for matching. */
export function leaves(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (v !== undefined) out.push(v);
  return out;
}

export class RecordView<R extends object = object> {
  private readonly cache = new Map<CompiledField, unknown[]>();
  private text?: string[];
  private memos?: Map<string, unknown>;

  constructor(
    readonly record: R,
    readonly target: string,
    private readonly resolver: FieldResolver,
    private readonly ctx: object = {},
  ) {}

  field(name: string): unknown[] {
    return this.resolved(this.resolver.field(this.target, name));
  }

  /** A field compiled ahead (rules compile theirs once); cached per record by identity. */
  resolved(f: CompiledField): unknown[] {
    let v = this.cache.get(f);
    if (v === undefined) {
      v = leaves(f.get(this.record, this.ctx));
      this.cache.set(f, v);
    }
    return v;
  }

  /** Whether a late field's value is final for this record already. */
  settled(f: CompiledField): boolean {
    return f.settled?.(this.record, this.ctx) ?? false;
  }

  allText(): string[] {
    this.text ??= this.resolver.text(this.record);
    return this.text;
  }

  /** Per-record values that every matching rule needs (group keys, evidence): computed once. */
  memo<T>(key: string, make: () => T): T {
    this.memos ??= new Map();
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = make();
    this.memos.set(key, v);
    return v;
  }
}
