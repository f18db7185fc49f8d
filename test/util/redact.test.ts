import { describe, expect, it } from 'vitest';
import { redactObject, redactSecrets } from '../../src/util/redact.js';

describe('redactSecrets', () => {
  it('masks passwords in URLs, key=value and quoted key: value forms', () => {
    expect(redactSecrets('postgresql://app:s3cret@db:5432/x')).toBe('postgresql://app:***@db:5432/x');
    expect(redactSecrets('host=db password=s3cret user=app')).toBe('host=db password=*** user=app');
    expect(redactSecrets(`{ password: 's3cret' }`)).toBe(`{ password: '***' }`);
    expect(redactSecrets(`{"password":"s3cret"}`)).not.toContain('s3cret');
    expect(redactSecrets('postgres://u@h/db?password=s3cret&x=1')).toBe('postgres://u@h/db?password=***&x=1');
  });

  it('leaves prose about a column named password alone', () => {
    expect(redactSecrets('users.password: NOT NULL → nullable')).toBe('users.password: NOT NULL → nullable');
    expect(redactSecrets('column password: missing')).toBe('column password: missing');
  });

  it('masks password-like keys in JSON output', () => {
    expect(redactObject({ connection: { password: 'x', host: 'h' } })).toEqual({ connection: { password: '***', host: 'h' } });
  });
});
