/**
 * Exponential moving average with bias correction (as TensorBoard does), so the smoothed
 * line starts at the first value instead of rising from zero. `weight` in [0, 1): 0 keeps the
 * raw values. Non-finite values (gaps) are passed through and do not disturb the average.
 */
export function ema(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(values.length);
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  let acc = 0;
  let debias = 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    debias *= w;
    out[i] = acc / (1 - debias);
  }
  return out;
}
