// JSON Lines: one JSON object per line. Blank lines are skipped but counted, so line numbers match
// the editor's; a bad line spoils only its own row.
import { readLines, type LineReadOptions } from './lineReader.js';
import { jsonRecord, type SourceRecord } from './sourceRecord.js';

export async function* jsonlRecords(file: string, options: LineReadOptions): AsyncGenerator<SourceRecord> {
  for await (const item of readLines(file, options)) {
    if ('problem' in item) yield item;
    else if (item.text.trim() !== '') yield jsonRecord(item.text, item.line);
  }
}
