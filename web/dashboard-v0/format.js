// Formats metric values for display: numbers, percentages, byte sizes, byte rates and ages.

// Shown where a value is missing or not a finite number.
export const PLACEHOLDER = '–';

const IEC_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const IEC_STEP = 1024;

export function isNumber(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

// Returns the value as a finite number, or NaN for anything else (missing fields, strings, null).
export function toNumber(value) {
  return isNumber(value) ? value : NaN;
}

export function formatFixed(value, digits) {
  return isNumber(value) ? value.toFixed(digits) : PLACEHOLDER;
}

export function formatPercent(value) {
  return formatFixed(value, 1);
}

// Values below this round to at most 999, which fits in three digits.
const SIGNIFICANT_LIMIT = 999.5;

// Keeps three significant digits, so a value below SIGNIFICANT_LIMIT never needs
// more than four characters ("9.99", "99.9", "999") and a column of them keeps its
// width. The decimals are chosen after rounding, so 9.996 becomes "10.0", not "10.00".
function formatSignificant(value) {
  for (const decimals of [2, 1]) {
    const text = value.toFixed(decimals);
    if (Number(text) < 10 ** (3 - decimals))
      return text;
  }
  return value.toFixed(0);
}

// Formats a byte count with IEC units ("1.23 GiB"). The unit is chosen so that the
// number stays below 1000 after rounding, which keeps it within four characters.
export function formatBytes(bytes) {
  if (!isNumber(bytes) || bytes < 0)
    return PLACEHOLDER;

  let value = bytes;
  let unit = 0;
  while (value >= SIGNIFICANT_LIMIT && unit < IEC_UNITS.length - 1) {
    value /= IEC_STEP;
    unit += 1;
  }

  if (unit === 0)
    return `${Math.round(value)} B`;
  return `${formatSignificant(value)} ${IEC_UNITS[unit]}`;
}

export function formatRate(bytesPerSecond) {
  const size = formatBytes(bytesPerSecond);
  return size === PLACEHOLDER ? size : `${size}/s`;
}

// Formats the time since a moment as "12 s ago", "3 min ago" or "2 h ago".
export function formatAge(ageMs) {
  const seconds = Math.max(0, Math.floor(ageMs / 1000));
  if (seconds < 60)
    return `${seconds} s ago`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}
