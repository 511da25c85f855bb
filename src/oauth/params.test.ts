import { describe, expect, it } from 'vitest';
import { OAuthError } from './errors.js';
import { Params } from './params.js';

describe('Params', () => {
  it('treats empty as absent and refuses repeats', () => {
    const p = new Params({ a: '', b: 'x', c: ['1', '2'] });
    expect(p.get('a')).toBeUndefined();
    expect(p.require('b')).toBe('x');
    expect(() => p.get('c')).toThrow(OAuthError);
    expect(() => p.require('a')).toThrow(/missing parameter 'a'/);
  });
  it('a grant\'s view reads only the parameters the grant declared', () => {
    const view = new Params({ scope: 'x', username: 'u' }).only(new Set(['scope']));
    expect(view.get('scope')).toBe('x');
    expect(() => view.get('username')).toThrow(/did not declare/);
  });
});
