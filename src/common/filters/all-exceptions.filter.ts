import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorReporter } from '../../error-tracking/error-reporter.service';
import { AppError } from '../errors/app-error';
import { toClientError } from '../errors/client-error';

// Every REST error leaves as `{ statusCode, message, error }`. Server-side failures are logged with
// the request id and stack; the client only gets the bland shape.
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  constructor(private readonly reporter: ErrorReporter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest & { user?: { id: string } }>();
    const { status, message, error, fields } = toClientError(exception);
    if (status >= 500) {
      this.logger.error({ err: exception, requestId: request.id, method: request.method, url: request.url, status }, 'request failed');
      // Known upstream or dependency outcomes are metrics, not bugs; everything else is reported.
      if (!(exception instanceof AppError)) this.reporter.report(exception, { requestId: request.id, userId: request.user?.id, transport: 'rest' });
    }
    if (response.sent || response.raw.headersSent) return;
    void response.code(status).send({ statusCode: status, message, error, ...fields });
  }
}
