/**
 * A small RFC 4180 CSV reader. The UCI online-retail descriptions contain commas and doubled
 * quotes (`"LETTER ""S"" BLING KEY RING"`), so splitting on commas would corrupt rows; this
 * reader handles quoted fields, escaped quotes, CRLF/LF and newlines inside quotes, and reports
 * the physical line each record starts on, so every record can be traced back to the file.
 */

export interface CsvRecord {
  /** 1-based physical line number where the record starts. */
  readonly line: number;
  readonly fields: string[];
  /** The record's raw text (without the line terminator), for error reports. */
  readonly raw: string;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`CSV line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * Iterates the records of a CSV text. An unterminated quoted field at the end of the input is a
 * `CsvSyntaxError`; a stray quote inside an unquoted field is kept literally (as most readers do).
 */
export function* readCsv(text: string): IterableIterator<CsvRecord> {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  let line = 1;
  while (i < n) {
    const startLine = line;
    const start = i;
    const fields: string[] = [];
    let field = '';
    let inQuotes = false;
    let quotedField = false;
    let ended = false;
    while (i < n) {
      const c = text[i] as string;
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          inQuotes = false;
          i += 1;
          continue;
        }
        if (c === '\n') line += 1;
        field += c;
        i += 1;
        continue;
      }
      if (c === '"' && field === '' && !quotedField) {
        inQuotes = true;
        quotedField = true;
        i += 1;
        continue;
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        quotedField = false;
        i += 1;
        continue;
      }
      if (c === '\r' && text[i + 1] === '\n') {
        i += 2;
        ended = true;
        break;
      }
      if (c === '\n' || c === '\r') {
        i += 1;
        ended = true;
        break;
      }
      field += c;
      i += 1;
    }
    if (inQuotes) throw new CsvSyntaxError(startLine, 'unterminated quoted field');
    fields.push(field);
    const raw = text.slice(start, i).replace(/\r?\n$|\r$/, '');
    line += 1;
    // A blank line is not a record (and not an empty single-field record).
    if (!(fields.length === 1 && fields[0] === '' && !quotedField)) yield { line: startLine, fields, raw };
    if (!ended) break;
  }
}
