/**
 * An error the emulated service answers with. `code` is the AWS error name the SDK turns into an
 * exception class (`ParameterNotFound`, `ValidationException`, …); `status` is the HTTP status AWS
 * sends with it (400 for client faults, 500 for `InternalServerError`).
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * AWS's wording for a failed input constraint, e.g.
 * `1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`.
 */
export function validationError(value: string, field: string, constraint: string): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}
