import { ApiProperty } from '@nestjs/swagger';

export const JOB_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'paused', 'stuck'] as const;
export type JobState = (typeof JOB_STATES)[number];

export class JobQueuedResponseDto {
  @ApiProperty({ format: 'uuid', description: 'Poll GET /ai/jobs/{jobId} with it' }) jobId: string;
  @ApiProperty({ enum: ['queued'] }) status: 'queued';
}

export class JobStatusResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 100, description: 'Percent done, 0..100' }) progress: number;
  @ApiProperty({ enum: JOB_STATES, example: 'completed', description: "Bull's job state" }) state: JobState;
  @ApiProperty({
    nullable: true,
    type: Object,
    description: 'Once completed: the POST /ai/chat response (completion) or the POST /ai/embeddings response (embeddings)',
  })
  result: unknown;
  @ApiProperty({ nullable: true, type: String, example: null, description: 'Why the last attempt failed' })
  failedReason: string | null;
}
