// Numbers, sizes and times in the officer's locale (the system's, as Chromium reports it), so that a
// screen reads like the rest of the workstation. Only the renderer formats for people; core and the
// IPC contract carry plain numbers and ISO 8601 times.

/**
 * A size in bytes as KB, MB or GB (decimal units, as USB sticks are sold) with one decimal, in the
 * officer's locale, e.g. 84570123456 → "84.6 GB" ("84,6 GB" in German). Below 1 KB: whole bytes.
 */
export function formatBytes(bytes: number, locale?: string): string {
  const units = [
    { unit: 'GB', size: 1e9 },
    { unit: 'MB', size: 1e6 },
    { unit: 'KB', size: 1e3 },
  ] as const;
  const pick = units.find((u) => Math.abs(bytes) >= u.size);
  if (!pick) return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(bytes)} bytes`;
  return `${new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(bytes / pick.size)} ${pick.unit}`;
}

/** A count with the locale's digit grouping, e.g. 10000 → "10,000". */
export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/**
 * An ISO 8601 time as date and time in the officer's locale and time zone, with the zone named,
 * e.g. "30 Nov 2026, 21:14 UTC". Text that is not a time is returned as it is.
 */
export function formatDateTime(iso: string, locale?: string): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(when) + zoneSuffix(when, locale);
}

/**
 * The time of day of an ISO 8601 time, to the second, in the officer's locale and time zone with
 * the zone named, e.g. "21:14:05 UTC" (for a step that ended the day it started).
 */
export function formatTimeOfDay(iso: string, locale?: string): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { timeStyle: 'medium' }).format(when) + zoneSuffix(when, locale);
}

function zoneSuffix(when: Date, locale?: string): string {
  const zone = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' }).formatToParts(when).find((p) => p.type === 'timeZoneName');
  return zone ? ` ${zone.value}` : '';
}
