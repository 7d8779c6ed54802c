// The chip's data groups as src/chip/ reads them (docs/chip-verification.md): TD1 MRZ check digits (ICAO
// Doc 9303 part 3, 4.9, with the specimen of part 5), names in MRZ characters, DG1 and DG13 round trips,
// and the refusals of what cannot be read — each a ChipFormatError (the API's 400), never a crash.
import { expect } from 'chai';
import { checkDigit, encodeDg1, mrzLines, mrzName, parseDg1 } from '../../src/chip/mrz.ts';
import { encodeDg13, parseDg13, type Dg13 } from '../../src/chip/dg13.ts';
import { chipReadOf } from '../../src/chip/chip-verification.ts';
import { parseSod } from '../../src/chip/sod.ts';
import { ChipFormatError } from '../../src/chip/errors.ts';
import { buildSod } from '../../src/chip/sod.ts';
import { newTestAuthority } from '../../src/chip/test-chip.ts';
import { randomBytes } from 'node:crypto';

describe('chip formats: MRZ (DG1), DG13, the request', function () {
  // ICAO Doc 9303 part 5, appendix A: the TD1 specimen.
  const SPECIMEN: [string, string, string] = ['I<UTOD231458907<<<<<<<<<<<<<<<', '7408122F1204159UTO<<<<<<<<<<<6', 'ERIKSSON<<ANNA<MARIA<<<<<<<<<<'];

  it("computes ICAO 9303's check digits (the TD1 specimen)", function () {
    expect(checkDigit('D23145890')).to.equal('7');
    expect(checkDigit('740812')).to.equal('2');
    expect(checkDigit('120415')).to.equal('9');
    expect(checkDigit('<<<<<<')).to.equal('0');
    expect(() => checkDigit('ab')).to.throw(ChipFormatError);
  });

  it('reads the specimen and finds its check digits right; one changed digit makes them wrong', function () {
    const mrz = parseDg1(encodeDg1(SPECIMEN));
    expect(mrz).to.deep.include({ documentNumber: 'D23145890', birthDate: '740812', sex: 'F', expiryDate: '120415', primaryIdentifier: 'ERIKSSON', secondaryIdentifier: 'ANNA MARIA', checkDigitsValid: true });
    const altered: [string, string, string] = [SPECIMEN[0], SPECIMEN[1].replace('740812', '740813'), SPECIMEN[2]];
    expect(parseDg1(encodeDg1(altered)).checkDigitsValid).to.equal(false);
  });

  it("writes a Vietnamese card's MRZ that reads back: number, birth date, names without diacritics", function () {
    const lines = mrzLines({ nationalId: '001099012345', birthDate: '1999-03-15', sex: 'M', expiryDate: '2039-03-15', familyName: 'Nguyễn', givenNames: 'Văn An' });
    expect(lines.map((line) => line.length)).to.deep.equal([30, 30, 30]);
    const mrz = parseDg1(encodeDg1(lines));
    expect(mrz).to.deep.include({ documentCode: 'ID', issuingState: 'VNM', documentNumber: '099012345', nationalId: '001099012345', birthDate: '990315', expiryDate: '390315', primaryIdentifier: 'NGUYEN', secondaryIdentifier: 'VAN AN', checkDigitsValid: true });
    expect(mrzName('Đỗ Văn Tùng')).to.equal('DO VAN TUNG');
    expect(mrzName('Lê Thị Ánh Nguyệt')).to.equal('LE THI ANH NGUYET');
  });

  it('refuses a DG1 that is not a TD1 MRZ', function () {
    expect(() => parseDg1(Buffer.from([0x61, 0x03, 0x04, 0x01, 0x00]))).to.throw(ChipFormatError, /no MRZ/);
    expect(() => parseDg1(encodeDg1(['SHORT', 'LINES', 'HERE'] as never))).to.throw(ChipFormatError, /TD1/);
    expect(() => parseDg1(Buffer.from('not DER at all'))).to.throw(ChipFormatError);
  });

  const card: Dg13 = {
    nationalId: '001099012345',
    fullName: 'Nguyễn Văn An',
    birthDate: '1999-03-15',
    sex: 'Nam',
    nationality: 'Việt Nam',
    placeOfOrigin: 'Hà Nội',
    issueDate: '2021-04-01',
    expiryDate: null,
  };

  it('reads back the DG13 it writes (a card without expiry too)', function () {
    expect(parseDg13(encodeDg13(card))).to.deep.equal(card);
    expect(parseDg13(encodeDg13({ ...card, expiryDate: '2039-03-15' })).expiryDate).to.equal('2039-03-15');
  });

  it('refuses a DG13 with a bad date, a bad number or another tag', function () {
    expect(() => parseDg13(encodeDg13({ ...card, birthDate: '1999-02-30' }))).to.throw(ChipFormatError, /birthDate/);
    expect(() => parseDg13(encodeDg13({ ...card, nationalId: '12345' }))).to.throw(ChipFormatError, /12 digits/);
    expect(() => parseDg13(encodeDg1(['I<UTOD231458907<<<<<<<<<<<<<<<', '7408122F1204159UTO<<<<<<<<<<<6', 'ERIKSSON<<ANNA<MARIA<<<<<<<<<<']))).to.throw(ChipFormatError, /tag 6D/);
  });

  it('refuses a SOD that is not an EF.SOD', function () {
    expect(() => parseSod(Buffer.from('garbage'))).to.throw(ChipFormatError, /not DER/);
    expect(() => parseSod(encodeDg13(card))).to.throw(ChipFormatError, /tag 77/);
  });

  it('answers hostile bytes with ChipFormatError only: truncations, random bytes, deep nesting', async function () {
    const authority = await newTestAuthority('fuzz');
    const dg1 = encodeDg1(SPECIMEN);
    const dg13 = encodeDg13(card);
    const sod = await buildSod(new Map([[1, dg1], [13, dg13]]), authority.documentSigner);
    const deep = Buffer.alloc(64 * 1024);
    for (let index = 0; index < deep.length; index += 2) deep.set([0x30, 0x80], index);
    const parsers: [string, (bytes: Uint8Array) => unknown, Buffer][] = [
      ['SOD', parseSod, sod],
      ['DG1', parseDg1, dg1],
      ['DG13', parseDg13, dg13],
    ];
    for (const [name, parse, genuine] of parsers) {
      const hostile = [deep, Buffer.alloc(0), ...Array.from({ length: 30 }, () => randomBytes(64)), ...Array.from({ length: genuine.length - 1 }, (_, length) => genuine.subarray(0, length)).filter((_, index) => index % 5 === 0)];
      for (const bytes of hostile) {
        let thrown: unknown;
        try {
          parse(bytes);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, `${name}, ${bytes.length} bytes`).to.be.instanceOf(ChipFormatError);
      }
    }
  });

  it('reads the request body strictly: standard base64, known fields, bounded sizes', function () {
    const ok = { sod: 'AAAA', dg1: 'AAAA', dg13: 'AAAA' };
    expect(chipReadOf(ok).dg2).to.equal(undefined);
    expect(chipReadOf({ ...ok, dg2: 'AAAA' }).dg2).to.deep.equal(Buffer.from([0, 0, 0]));
    for (const bad of [null, [], 'text', { ...ok, sod: 'AA-A' }, { ...ok, dg1: '' }, { ...ok, extra: 'AAAA' }, { dg1: 'AAAA', dg13: 'AAAA' }, { ...ok, dg13: 'A'.repeat(200_000) }]) {
      expect(() => chipReadOf(bad), JSON.stringify(bad).slice(0, 60)).to.throw(ChipFormatError);
    }
  });
});
