import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from register, login or the last refresh' })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken: string;
}
