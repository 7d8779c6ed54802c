import { expect } from 'chai';
import { unsupportedRuntime } from '../src/runtime.ts';

describe('runtime', () => {
  it('runs the test suite on the pinned Node.js 24', () => {
    expect(Number(process.versions.node.split('.')[0])).to.equal(24);
  });

  it('refuses Node.js 20 with one line naming the version needed', () => {
    const refusal = unsupportedRuntime('20.20.2');
    expect(refusal).to.be.a('string').and.to.include('22.12').and.to.include('20.20.2');
    expect(refusal).not.to.include('\n');
  });

  it('accepts 22.12 and newer', () => {
    expect(unsupportedRuntime('22.12.0')).to.equal(undefined);
    expect(unsupportedRuntime('24.21.0')).to.equal(undefined);
    expect(unsupportedRuntime('22.11.9')).to.be.a('string');
  });
});
