// Number formats of the dashboard.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Formats a byte count with binary units: "512 B", "3.21 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes))
    return '–';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const sign = bytes < 0 ? '-' : '';
  return unit === 0 ? `${sign}${Math.round(value)} B` : `${sign}${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}

/** Formats a rate in bytes per second. */
export function formatByteRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatFixed(digits: number): (value: number) => string {
  return (value) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
}

export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

/** Formats a price with two decimals below 1000 and thousands separators above. */
export function formatPrice(value: number): string {
  return Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '–';
}

/** Formats the age of something that happened `ms` ago: "3 s ago", "2 min ago". */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60)
    return `${seconds} s ago`;
  if (seconds < 3600)
    return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/**
 * Formats a change in percent with two decimals and a sign, and returns its trend. A
 * change that rounds to zero is "0.00%" and flat, never "-0.00%" in the falling colour.
 */
export function formatChange(percent: number): { text: string; trend: 'up' | 'down' | 'flat' } {
  if (!Number.isFinite(percent))
    return { text: '–', trend: 'flat' };
  const text = percent.toFixed(2);
  if (Number(text) > 0)
    return { text: `+${text}%`, trend: 'up' };
  if (Number(text) < 0)
    return { text: `${text}%`, trend: 'down' };
  return { text: '0.00%', trend: 'flat' };
}
