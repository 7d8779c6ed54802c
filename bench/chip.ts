// Chip verification benchmark (issue 18): how many chip reads one process checks per second, and how
// long one takes — parsing EF.SOD, DG1 and DG13, passive authentication (the document signer's chain,
// the SOD's ECDSA P-256 signature, three SHA-256 hashes) and the comparison with a registry record.
// In-process: the registry is an in-memory record here (its lookup is measured by bench/registry.ts),
// the signing of the bank's result is the provider's usual ES256 signature. Prints a Markdown line for
// docs/benchmarks.md.
//
//   npm run bench:chip -- [--count 2000] [--concurrency 8]
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ChipVerifier } from '../src/chip/chip-verification.ts';
import { chipReadOf } from '../src/chip/chip-verification.ts';
import { chipRequestBody, issueTestChip, newTestAuthority } from '../src/chip/test-chip.ts';
import { cardExpiry, type RegistryRecord } from '../src/registry/registry.ts';

const { values: args } = parseArgs({ options: { count: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' } } });
const count = Number(args.count);
const concurrency = Number(args.concurrency);

const record: RegistryRecord = {
  nationalId: '048203000777',
  familyName: 'Lê',
  middleName: 'Minh',
  givenName: 'Khoa',
  fullName: 'Lê Minh Khoa',
  birthDate: '2003-11-20',
  gender: 'male',
  birthRegistrationProvince: '048',
  placeOfOrigin: 'Đà Nẵng',
  ethnicity: 'Kinh',
  nationality: 'VN',
  idCardIssueDate: '2021-04-01',
  idCardExpiryDate: cardExpiry('2003-11-20', '2021-04-01'),
  permanentAddress: { streetAddress: '1 Bạch Đằng', locality: 'Hải Châu', region: 'Đà Nẵng', country: 'VN' },
  temporaryAddress: null,
  diedOn: null,
  missingSince: null,
  contactPhone: null,
  contactEmail: null,
};

const authority = await newTestAuthority('bench');
const body = chipRequestBody(await issueTestChip(record, authority.documentSigner));
const verifier = new ChipVerifier({ trust: () => ({ cscas: [authority.csca.certificate], crls: [] }), registry: { findByNationalId: () => Promise.resolve(record) } });

// Warm-up (JIT, pkijs' engine), then the measured run: the request's base64 decoded each time, as the API does.
for (let index = 0; index < 50; index += 1) await verifier.check(chipReadOf(body));
const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      const begin = performance.now();
      const check = await verifier.check(chipReadOf(body));
      latencies.push(performance.now() - begin);
      if (check.result !== 'verified') throw new Error(`unexpected refusal: ${JSON.stringify(check.checks)}`);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
console.log(
  `| ${count} chips, concurrency ${concurrency} | ${(count / seconds).toFixed(0)} verifications/s | p50 ${at(0.5)} ms, p99 ${at(0.99)} ms | ${availableParallelism()} CPUs, load ${loadavg()[0]!.toFixed(1)} |`,
);
