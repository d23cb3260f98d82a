import { CanActivate, Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { VECTOR_UNAVAILABLE_MESSAGE, VectorSupport } from '../../vector/vector-support.service';

// Refuses the knowledge routes with 503 while there is no pgvector, before an upload is read.
@Injectable()
export class KnowledgeAvailableGuard implements CanActivate {
  constructor(private readonly vector: VectorSupport) {}

  canActivate(): boolean {
    if (!this.vector.isAvailable) throw new AppError('VECTOR_SEARCH_UNAVAILABLE', VECTOR_UNAVAILABLE_MESSAGE);
    return true;
  }
}
