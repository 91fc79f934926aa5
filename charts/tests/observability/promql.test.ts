import assert from 'node:assert/strict';
import { familyCandidates, metricNames } from './promql.ts';

describe('PromQL metric-name extraction (for the dashboard and alert-rule checks)', () => {
  it('finds the metric inside functions and aggregations, not the functions, operators or label names', () => {
    assert.deepEqual(
      metricNames('histogram_quantile(0.95, sum by (job, le) (rate(triggers_http_request_duration_seconds_bucket{job=~"$job", route="/x"}[$__rate_interval])))'),
      ['triggers_http_request_duration_seconds_bucket'],
    );
  });

  it('reads both sides of binary operators and skips keywords, numbers and durations', () => {
    assert.deepEqual(
      metricNames('(sum(rate(a_total{status=~"5.."}[5m])) or vector(0)) / sum without (instance) (rate(b_total[1h30m] offset 5m)) > 0.05 and on (job) c > bool 1e3'),
      ['a_total', 'b_total', 'c'],
    );
  });

  it('ignores names inside strings and label matchers', () => {
    assert.deepEqual(metricNames('count_values("not_a_metric", x{le="y", other="z_total"})'), ['x']);
    assert.deepEqual(metricNames("label_replace(up_ish, 'dst', '$1', 'src', '(.*)')"), ['up_ish']);
  });

  it('handles group_left label lists, subqueries, topk and a name used twice', () => {
    assert.deepEqual(
      metricNames('topk(10, max_over_time(deriv(q{state="visible"}[10m])[30m:1m])) * on (job) group_left (version) info + q'),
      ['q', 'info'],
    );
  });

  it('strips _bucket, _sum and _count to the family, keeping the name itself as a candidate', () => {
    assert.deepEqual(familyCandidates('h_seconds_bucket'), ['h_seconds_bucket', 'h_seconds']);
    assert.deepEqual(familyCandidates('c_total'), ['c_total']);
  });
});
