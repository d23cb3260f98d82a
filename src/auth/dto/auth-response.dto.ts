import { ApiProperty } from '@nestjs/swagger';
import { UserResponseDto } from '../../users/dto/user-response.dto';

export class AuthResponseDto {
  @ApiProperty({ description: 'JWT (HS256) for `Authorization: Bearer` and the socket handshake' })
  accessToken: string;

  @ApiProperty({ description: 'Opaque single-use token for POST /auth/refresh' })
  refreshToken: string;

  @ApiProperty({ type: UserResponseDto })
  user: UserResponseDto;
}
