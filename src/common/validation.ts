import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { registerDecorator, ValidateIf, type ValidationOptions } from 'class-validator';
import { Transform } from 'class-transformer';
import { parseTimestamp } from './time.js';
import { DomainError } from './errors.js';

/** May be left out, but not null. */
export const Optional = () => ValidateIf((_, value) => value !== undefined);

/** May be left out or null; null clears the field. */
export const Nullable = () => ValidateIf((_, value) => value !== undefined && value !== null);

/** An ISO 8601 timestamp string within the years Pulse accepts. */
export function IsTimestamp(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimestamp',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an ISO 8601 timestamp`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && parseTimestamp(value, 'UTC') !== null },
    });
}

/** A query parameter that may repeat: always an array. */
export const QueryList = () =>
  Transform(({ value }) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]));

/** A query parameter boolean: `true`/`false`/`1`/`0`, anything else stays as is and fails @IsBoolean. */
export const QueryBoolean = () =>
  Transform(({ value }) => {
    if (value === 'true' || value === '1' || value === true) return true;
    if (value === 'false' || value === '0' || value === false) return false;
    return value;
  });

/** Flattens class-validator's tree into messages that name the parameter, `tickets.3.status ...`. */
export function validationMessages(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(`${error.property} `) && parent ? `${parent}.${message}` : message,
    );
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}

/**
 * The pipe for every DTO: unknown properties are refused, values are
 * transformed into their DTO, failures become VALIDATION_FAILED with one
 * message per problem.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => new DomainError('VALIDATION_FAILED', validationMessages(errors)),
  });
}

export { BadRequestException };
