import { GatehouseError } from '../errors.js';

/**
 * The only exception type the SAML verifier throws for a bad assertion.
 *
 * `description` is a short, fixed, human-readable text that is safe to return to the client as
 * OAuth `error_description`: it never echoes any part of the assertion (no element names, no
 * values, no parser messages), so it cannot leak or reflect attacker-controlled content.
 */
export class SamlValidationError extends GatehouseError {
  override name = 'SamlValidationError';
  readonly description: string;

  constructor(description: string) {
    super('invalid', description);
    this.description = description;
  }
}

/** Throws a SamlValidationError; typed `never` so it can be used in expressions. */
export function fail(description: string): never {
  throw new SamlValidationError(description);
}
