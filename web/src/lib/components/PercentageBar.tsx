// A horizontal bar for a percentage, with the number beside it and a pattern past the warning level.

export interface PercentageBarProps {
  /** 0 to 100; values outside are clamped for the bar, not for the text. */
  percent: number;
  label?: string;
  /** From this percentage the bar turns amber and striped. Default 75. */
  warnAt?: number;
  /** From this percentage the bar turns red and striped. Default 90. */
  criticalAt?: number;
}

export function PercentageBar({ percent, label, warnAt = 75, criticalAt = 90 }: PercentageBarProps) {
  const width = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
  const level = percent >= criticalAt ? 'critical' : percent >= warnAt ? 'warn' : 'ok';
  return (
    <div className="percentage-bar" data-level={level}>
      {label !== undefined && <span className="percentage-label">{label}</span>}
      <span className="percentage-track" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(width)} aria-label={label}>
        <span className="percentage-fill" style={{ width: `${width}%` }} />
      </span>
      <span className="percentage-text tabular">{Number.isFinite(percent) ? `${percent.toFixed(1)}%` : '–'}</span>
    </div>
  );
}
