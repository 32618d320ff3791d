export const ROLES = ['viewer', 'agent', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as the verified token says. */
export interface Principal {
  readonly subject: string;
  readonly organizationId: number;
  readonly role: Role;
  /** The token's `exp`: a socket opened with it is closed then. */
  readonly expiresAt: Date;
}

/** Each role may do what the roles before it may. */
export function roleAllows(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}
