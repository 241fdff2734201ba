/**
 * Errors of the local Iceberg library. Each names the table or file it is about, so an
 * operator can act on it without reading a stack trace.
 */

/** Base class: every error this library throws on purpose. */
export class IcebergError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A metadata file (table metadata JSON, manifest list, manifest) is missing or unreadable. */
export class IcebergMetadataError extends IcebergError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`Iceberg metadata file ${file}: ${reason}`, options);
    this.file = file;
  }
}

/** The catalog has no table of that name. */
export class NoSuchTableError extends IcebergError {
  readonly ident: string;
  constructor(ident: string) {
    super(`no such Iceberg table: ${ident}`);
    this.ident = ident;
  }
}

/** `createTable` of a name that already exists. */
export class TableAlreadyExistsError extends IcebergError {
  readonly ident: string;
  constructor(ident: string) {
    super(`Iceberg table already exists: ${ident}`);
    this.ident = ident;
  }
}

/**
 * Another writer committed first and this change cannot be re-applied on top of it (or the
 * retry budget ran out). Nothing of this commit is visible; its uncommitted files are removed.
 */
export class CommitConflictError extends IcebergError {
  readonly ident: string;
  constructor(ident: string, reason: string) {
    super(`commit to ${ident} failed: ${reason}`);
    this.ident = ident;
  }
}

/** A table spec, schema change or written data that does not fit the table. */
export class IcebergValidationError extends IcebergError {}
