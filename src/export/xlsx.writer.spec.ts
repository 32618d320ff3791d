import ExcelJS from 'exceljs';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { needsDrain, sheetInput } from './xlsx.writer.js';

/**
 * `sheetInput` and `needsDrain` reach into exceljs and readable-stream for the
 * buffer a sheet's rows pile up in; this fails when either stops keeping it
 * where the writer looks.
 */
describe('the buffer of an xlsx sheet on its way to the zip', () => {
  it('is found, fills while nothing reads the workbook, and drains once it is read', async () => {
    const out = new PassThrough();
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false });
    const sheet = workbook.addWorksheet('rows');
    sheet.columns = [{ header: 'text', key: 'text' }];
    const row = { text: 'x'.repeat(200) };
    sheet.addRow(row).commit();
    // archiver takes the sheet's stream in on a later tick, as it does while the writer awaits its rows.
    await new Promise((resolve) => setImmediate(resolve));
    const input = sheetInput(sheet);
    expect(input).not.toBeNull();
    expect(needsDrain(input!)).toBe(false);

    for (let i = 0; i < 5000 && !needsDrain(input!); i++) sheet.addRow(row).commit();
    expect(needsDrain(input!)).toBe(true);

    const drained = once(input!, 'drain');
    out.resume();
    await drained;
    expect(needsDrain(input!)).toBe(false);
  });
});
