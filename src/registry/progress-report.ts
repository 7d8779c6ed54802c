// Progress of a long registry command on stderr: a redrawn bar with rows per second on a terminal,
// plain log lines now and then otherwise (a log file or CI should not fill with redraws).

export interface ProgressReport {
  /** Rows and bytes done so far; redraws or logs when it is time to. */
  update(rows: number, bytes: number): void;
  /** A new phase with no measurable progress (the merge): shows it, with a running clock on a terminal. */
  phase(description: string): void;
  /** Clears the bar (the summary follows on its own line). */
  finish(): void;
}

interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const BAR_WIDTH = 24;

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - minutes * 60)).padStart(2, '0')}s`;
}

const grouped = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return grouped.format(Math.round(value));
}

/**
 * `label` prefixes every line; `totalBytes`, when known, gives a percentage and an estimate of the time
 * left. Terminal redraws come at most five times a second, log lines every `logEveryMs`.
 */
export function progressReport(output: Output, label: string, options: { totalBytes?: number; logEveryMs?: number } = {}): ProgressReport {
  const tty = output.isTTY === true;
  const started = Date.now();
  const logEveryMs = options.logEveryMs ?? 10_000;
  let last = 0;
  let drawn = false;
  let clock: NodeJS.Timeout | undefined;

  const percent = (bytes: number): number | undefined =>
    options.totalBytes ? Math.min(100, (100 * bytes) / options.totalBytes) : undefined;

  const draw = (text: string): void => {
    output.write(`\r\x1b[2K${text}`);
    drawn = true;
  };

  return {
    update(rows, bytes) {
      const now = Date.now();
      if (now - last < (tty ? 200 : logEveryMs)) return;
      last = now;
      const elapsed = (now - started) / 1000;
      const rate = elapsed > 0 ? rows / elapsed : 0;
      const share = percent(bytes);
      if (tty) {
        const filled = share === undefined ? 0 : Math.round((share / 100) * BAR_WIDTH);
        const bar = share === undefined ? '' : `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${share.toFixed(0).padStart(3)}% `;
        const left = share && share > 0 ? ` ETA ${formatDuration(((100 - share) / share) * elapsed * 1000)}` : '';
        draw(`${label}: ${bar}${formatCount(rows)} rows  ${formatCount(rate)} rows/s${left}`);
      } else {
        output.write(`${label}: ${formatCount(rows)} rows${share === undefined ? '' : ` (${share.toFixed(0)}%)`}, ${formatCount(rate)} rows/s, ${formatDuration(now - started)}\n`);
      }
    },
    phase(description) {
      if (clock) clearInterval(clock);
      if (!tty) {
        output.write(`${label}: ${description}\n`);
        return;
      }
      const since = Date.now();
      draw(`${label}: ${description}`);
      clock = setInterval(() => draw(`${label}: ${description} ${formatDuration(Date.now() - since)}`), 500);
      clock.unref();
    },
    finish() {
      if (clock) clearInterval(clock);
      if (drawn) output.write('\r\x1b[2K');
    },
  };
}
