/**
 * Every endpoint of API.md §2–§4 behind the bearer token, written out from
 * the contract (not from the code), as the OpenAPI document must list it.
 */
export const API_ENDPOINTS = [
  'post /api/v1/tickets',
  'post /api/v1/tickets/bulk',
  'patch /api/v1/tickets/{id}',
  'get /api/v1/tickets/{id}',
  'get /api/v1/tickets',
  'get /api/v1/analytics/time-series/{metric_type}',
  'post /api/v1/analytics/aggregations',
  'get /api/v1/analytics/dashboard',
  'get /api/v1/analytics/performance',
  'get /api/v1/analytics/distribution/{field}',
  'delete /api/v1/analytics/cache',
  'post /api/v1/analytics/refresh-cache',
  'get /api/v1/analytics/cache/stats',
  'post /api/v1/analytics/export',
] as const;
