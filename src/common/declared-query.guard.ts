import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/internal';
import type { FastifyRequest } from 'fastify';
import { invalid } from './errors.js';

/**
 * Unknown query parameters are refused everywhere. Routes with a query DTO
 * refuse them through validation; this guard covers the routes that take no
 * query at all, so `GET /tickets/:id?foo=1` is a 400 too.
 */
@Injectable()
export class DeclaredQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const names = Object.keys((request.query ?? {}) as object);
    if (names.length === 0) return true;
    const params: Record<string, unknown> =
      Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), context.getHandler().name) ?? {};
    const takesQuery = Object.keys(params).some((key) => Number(key.split(':')[0]) === RouteParamtypes.QUERY);
    if (!takesQuery) throw invalid(names.map((name) => `property ${name} should not exist`));
    return true;
  }
}
