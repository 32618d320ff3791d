import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { BEARER_SCHEME } from './auth/auth.docs.js';

const REQUEST_ID_HEADER = 'X-Request-Id';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Serves the OpenAPI document at `/docs-json` and Swagger UI at `/docs`, at
 * the root and without a token: both are plain Fastify routes, outside Nest's
 * guards. The UI's assets come from swagger-ui-dist through @fastify/static.
 */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    raw: ['json'],
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Pulse API',
  });
}

/** The document, from the explicit decorators on controllers and DTOs (no CLI plugin). */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Pulse')
    .setDescription(
      'Cached analytics for support tickets. Every request except /health, /metrics and /docs carries ' +
        '`Authorization: Bearer <JWT>`; the organization always comes from the token. Errors share one body, ' +
        '`Error`. Every response carries X-Request-Id, the id under which the request was logged.',
    )
    .setOpenAPIVersion('3.0.3')
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'HS256 JWT with claims sub, org_id (positive integer), role (viewer, agent, admin) and exp.',
      },
      BEARER_SCHEME,
    )
    .addTag('tickets', 'Ticket ingestion')
    .addTag('analytics', 'Metrics over time, aggregations, dashboard, performance, distributions')
    .addTag('cache', 'Cache management (admin)')
    .addTag('operations', 'Health and Prometheus metrics')
    .build();
  config.components = {
    ...config.components,
    headers: {
      [REQUEST_ID_HEADER]: {
        description: 'The id under which the request was logged; a client-sent plain token is kept.',
        schema: { type: 'string' },
      },
    },
  };
  const document = SwaggerModule.createDocument(app, config);
  // The onRequest hook in app.factory sets X-Request-Id on every response, so it is declared here once
  // for all of them rather than on every response decorator.
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      for (const response of Object.values(pathItem[method]?.responses ?? {})) {
        if (!response || '$ref' in response) continue;
        response.headers = {
          ...response.headers,
          [REQUEST_ID_HEADER]: { $ref: `#/components/headers/${REQUEST_ID_HEADER}` },
        };
      }
    }
  }
  return document;
}
