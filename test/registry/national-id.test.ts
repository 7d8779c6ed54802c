// The 12-digit personal identification number: PPP G YY RRRRRR (docs/domain.md), checked on its own and
// against the person it is said to belong to.
import { expect } from 'chai';
import {
  PROVINCE_PREFIXES,
  centuryGenderDigit,
  checkNationalId,
  composeNationalId,
  isNationalIdShape,
  nationalIdFormatProblem,
  nationalIdProblem,
  parseNationalId,
} from '../../src/registry/national-id.ts';

describe('the personal identification number', function () {
  it('knows the 63 province prefixes of birth registration', function () {
    expect(Object.keys(PROVINCE_PREFIXES)).to.have.length(63);
    expect(PROVINCE_PREFIXES['001']).to.equal('Hà Nội');
    expect(PROVINCE_PREFIXES['079']).to.equal('TP Hồ Chí Minh');
    expect(PROVINCE_PREFIXES['096']).to.equal('Cà Mau');
  });

  describe('accepts', function () {
    it('the docs/domain.md example, a man born in Hà Nội in 1999', function () {
      expect(checkNationalId('001099012345', '1999-03-15', 'male')).to.be.undefined;
      expect(nationalIdProblem('001099012345', '1999-03-15', 'male')).to.be.undefined;
    });

    it('every century and gender digit from 1900 to 2199', function () {
      expect(checkNationalId('079185000123', '1985-07-02', 'female')).to.be.undefined;
      expect(checkNationalId('048203000777', '2003-11-20', 'male')).to.be.undefined;
      expect(checkNationalId('031324000001', '2024-01-09', 'female')).to.be.undefined;
      expect(checkNationalId('031400000001', '2100-01-01', 'male')).to.be.undefined;
      expect(checkNationalId('031599000001', '2199-12-31', 'female')).to.be.undefined;
      expect(checkNationalId('031000000001', '1900-01-01', 'male')).to.be.undefined;
    });
  });

  describe('refuses', function () {
    it('a wrong length, naming it', function () {
      expect(checkNationalId('00109901234', '1999-03-15', 'male')).to.deep.equal({ code: 'length', message: 'must be 12 digits, has 11 characters' });
      expect(checkNationalId('0010990123456', '1999-03-15', 'male')?.code).to.equal('length');
      expect(checkNationalId('', '1999-03-15', 'male')?.code).to.equal('length');
    });

    it('non-digits, including spaces, signs and non-ASCII digits', function () {
      for (const id of ['00109901234a', '001 99012345', '+01099012345', '００１０９９０１２３４']) {
        expect(nationalIdFormatProblem(id)?.code, id).to.be.oneOf(['non-digit', 'length']);
      }
      expect(checkNationalId('00109901234a', '1999-03-15', 'male')).to.deep.equal({ code: 'non-digit', message: 'must be 12 digits, has other characters' });
      expect(isNationalIdShape('١٢٣٤٥٦٧٨٩٠١٢')).to.be.false;
    });

    it('a prefix that is no province code', function () {
      for (const prefix of ['000', '003', '013', '097', '100', '999']) {
        expect(checkNationalId(`${prefix}099012345`, '1999-03-15', 'male'), prefix).to.deep.equal({
          code: 'prefix',
          message: `unknown province prefix ${prefix}`,
        });
      }
    });

    it('a gender digit that disagrees with the gender', function () {
      const problem = checkNationalId('001199012345', '1999-03-15', 'male');
      expect(problem?.code).to.equal('century-gender');
      expect(problem?.message).to.equal('century/gender digit 1 disagrees with a male born in 1999 (expected 0)');
      expect(checkNationalId('079085000123', '1985-07-02', 'female')?.code).to.equal('century-gender');
    });

    it('a century digit that disagrees with the birth year', function () {
      expect(checkNationalId('048003000777', '2003-11-20', 'male')?.code).to.equal('century-gender');
      expect(checkNationalId('001299012345', '1999-03-15', 'male')?.code).to.equal('century-gender');
      expect(checkNationalId('001699012345', '1999-03-15', 'male')).to.deep.equal({ code: 'century-gender', message: 'century/gender digit 6 is not 0–5' });
    });

    it('a birth year before 1900 or after 2199, which no digit can express', function () {
      expect(checkNationalId('001099012345', '1899-03-15', 'male')?.message).to.equal('century/gender digit 0 disagrees with a male born in 1899');
    });

    it('year digits that disagree with the birth year', function () {
      expect(checkNationalId('001098012345', '1999-03-15', 'male')).to.deep.equal({
        code: 'year',
        message: 'year digits 98 disagree with the birth year 1999',
      });
    });
  });

  it('reads what a number says about its holder', function () {
    expect(parseNationalId('079185000123')).to.deep.equal({
      prefix: '079',
      province: 'TP Hồ Chí Minh',
      gender: 'female',
      birthYear: 1985,
      serial: '000123',
    });
    expect(parseNationalId('048203000777')?.birthYear).to.equal(2003);
    expect(parseNationalId('003099012345')).to.be.undefined;
  });

  it('composes numbers that pass its own check', function () {
    expect(composeNationalId('001', 1999, 'male', 12345)).to.equal('001099012345');
    expect(composeNationalId('096', 2007, 'female', 999_999)).to.equal('096307999999');
    expect(() => composeNationalId('003', 1999, 'male', 1)).to.throw(RangeError);
    expect(() => composeNationalId('001', 1899, 'male', 1)).to.throw(RangeError);
    expect(() => composeNationalId('001', 1999, 'male', 1_000_000)).to.throw(RangeError);
    expect(centuryGenderDigit(2100, 'female')).to.equal(5);
    expect(centuryGenderDigit(2200, 'male')).to.be.undefined;
  });
});
