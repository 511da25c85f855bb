import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsCache, createGatewayMetrics } from './metrics.js';

describe('gateway metrics', () => {
  it('folds accumulated counts and durations into prom-client exactly at scrape time', async () => {
    const registry = new Registry();
    const m = createGatewayMetrics(registry);
    const cache = new MetricsCache(m);
    const a = cache.forApi('Weather', '1.0.0');
    a.record(200, 0.0004);
    a.record(200, 0.003);
    a.record(404, 0.2);
    a.record(200, 42); // above the last bucket: only in +Inf, sum and count
    cache.hit(true); cache.hit(true); cache.hit(false); cache.miss();
    let text = await registry.metrics();
    expect(text).toContain('gatehouse_gateway_requests_total{api="Weather",version="1.0.0",status="200"} 3');
    expect(text).toContain('gatehouse_gateway_requests_total{api="Weather",version="1.0.0",status="404"} 1');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="0.0005",api="Weather",version="1.0.0"} 1');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="0.001",api="Weather",version="1.0.0"} 1');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="0.005",api="Weather",version="1.0.0"} 2');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="0.25",api="Weather",version="1.0.0"} 3');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="30",api="Weather",version="1.0.0"} 3');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="+Inf",api="Weather",version="1.0.0"} 4');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_count{api="Weather",version="1.0.0"} 4');
    expect(text).toMatch(/gatehouse_gateway_request_duration_seconds_sum\{api="Weather",version="1.0.0"\} 42\.2034/);
    expect(text).toContain('gatehouse_gateway_token_cache_hits_total{kind="positive"} 2');
    expect(text).toContain('gatehouse_gateway_token_cache_hits_total{kind="negative"} 1');
    expect(text).toContain('gatehouse_gateway_token_cache_misses_total 1');
    // a second scrape adds only what happened since
    a.record(200, 0.0004);
    text = await registry.metrics();
    expect(text).toContain('gatehouse_gateway_requests_total{api="Weather",version="1.0.0",status="200"} 4');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_bucket{le="0.0005",api="Weather",version="1.0.0"} 2');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_count{api="Weather",version="1.0.0"} 5');
    // and survives a registry reset
    registry.resetMetrics();
    a.record(500, 0.01);
    text = await registry.metrics();
    expect(text).toContain('gatehouse_gateway_requests_total{api="Weather",version="1.0.0",status="500"} 1');
    expect(text).toContain('gatehouse_gateway_request_duration_seconds_count{api="Weather",version="1.0.0"} 1');
    cache.close();
  });
});
