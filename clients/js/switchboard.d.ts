// Types of the Switchboard browser client (clients/js/switchboard.js), protocol v1.

export interface IceServer { urls: string[]; username?: string; credential?: string }
export interface Welcome { type: 'welcome'; id: string; iceServers: IceServer[] }
export interface CallOptions { audio?: boolean; video?: boolean; data?: boolean; stream?: MediaStream }

export function defaultUrl(): string;

export class SwitchboardError extends Error {
  readonly code: string;
  constructor(code: string, message: string);
}

export class Switchboard extends EventTarget {
  constructor(url?: string, options?: { reconnect?: boolean; rtcConfiguration?: RTCConfiguration });
  readonly url: string;
  reconnect: boolean;
  rtcConfiguration: RTCConfiguration;
  id: string | null;
  iceServers: IceServer[];
  name: string | null;
  rooms: Set<string>;
  calls: Map<string, Call>;
  connect(): Promise<Welcome>;
  close(): void;
  send(message: object): void;
  register(name: string): Promise<void>;
  join(room: string): Promise<string[]>;
  leave(room: string): Promise<void>;
  call(address: string, options?: CallOptions): Promise<Call>;
}

export class Call extends EventTarget {
  readonly session: string;
  readonly remote: string;
  remoteName: string | null;
  readonly pc: RTCPeerConnection;
  dataChannel: RTCDataChannel | null;
  localStream: MediaStream | null;
  ended: boolean;
  /** Sends DTMF digits out of band (SIP: one INFO application/dtmf-relay per digit); duration in ms (40-6000, default 100). */
  sendDtmf(digits: string, duration?: number): void;
  /** Tells the caller this side is ringing (SIP: 180 Ringing). */
  ring(): void;
  /** Answers; for a caller that sent no offer (SIP late offer), sends this side's offer. */
  answer(options?: CallOptions): Promise<void>;
  /** Declines (reason `busy`, `decline`, ...) or ends the call. */
  hangup(reason?: string): void;
}

/** Detail of a call's `ended` event. */
export interface CallEnded {
  reason: string;
  local: boolean;
  /** The SIP status code that ended a call to a SIP peer, if any. */
  sipCode?: number;
  sipReason?: string;
}
