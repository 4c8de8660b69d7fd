// `npm run bench:profile -- FILE.cpuprofile [--seconds 10] [--top 25]`: where a profiled server
// (`npm run bench -- --server-node-arg=--cpu-prof ...`) spent the busiest stretch of its run.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { summarizeProfile, type CpuProfile, type Share } from './cpu-profile.js';

const { values, positionals } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, top: { type: 'string', default: '25' } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error('usage: npm run bench:profile -- FILE.cpuprofile... [--seconds 10] [--top 25]');
  process.exit(2);
}
const percent = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(6);
const print = (title: string, shares: Share[]): void => {
  console.log(`  ${title}  (self · with callees)`);
  for (const share of shares.slice(0, Number(values.top)))
    console.log(`    ${percent(share.self)} ${percent(share.inclusive)}  ${share.name}`);
};
for (const file of positionals) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const summary = summarizeProfile(profile, Number(values.seconds));
  console.log(
    `${file}: ${summary.seconds.toFixed(1)} s from ${summary.fromSeconds.toFixed(1)} s, ` +
      `${percent(summary.busy).trim()} busy; shares of the busy samples`,
  );
  print('owners by self time', summary.owners);
  print(
    'owners by time with callees',
    [...summary.owners].sort((a, b) => b.inclusive - a.inclusive),
  );
  print('functions by self time', summary.functions);
}
