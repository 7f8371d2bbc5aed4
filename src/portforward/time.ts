/**
 * Times as the supervisor writes them (ISO 8601, UTC, milliseconds), computed without a `Date`: V8
 * sets up its time-zone data on the first `Date` a process makes, about 2 MiB of resident memory
 * that the long-lived supervisor, which only ever writes UTC, does not need.
 */

/** `new Date(ms).toISOString()` for a time between the years 0 and 9999. */
export function isoTime(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  let rest = ms - day * 86_400_000;
  // the civil date of a day count (days since 1970-01-01), in 400-year eras from 0000-03-01
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) -
      Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const min = Math.floor(rest / 60_000);
  rest -= min * 60_000;
  const s = Math.floor(rest / 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(min)}:${pad(s)}.${
    pad(rest - s * 1000, 3)
  }Z`;
}

/** The time now, as {@link isoTime} writes it. */
export function isoNow(): string {
  return isoTime(Date.now());
}
