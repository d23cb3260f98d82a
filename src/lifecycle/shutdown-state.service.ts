import { Injectable, OnModuleDestroy } from '@nestjs/common';

// Flips when the app starts closing (the first shutdown hook), so new HTTP requests and streams
// are refused with 503 while running ones finish.
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private shuttingDown = false;

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  onModuleDestroy(): void {
    this.shuttingDown = true;
  }
}
