export { DecodeError, EncodeError } from './bytes.js';
export * from './codec.js';
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { FrameDecoder, FrameError, encodeFrame, encodeHandshake, decodeHandshake, type Handshake } from './frames.js';
export * from './transport.js';
export { TcpTransport, type TcpTransportOptions, type PeerAddress } from './tcp-transport.js';
export { MemoryNetwork, MemoryTransport, type MemoryNetworkOptions } from './memory-transport.js';
