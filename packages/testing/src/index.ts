export * from './backends.js';
export { images } from './images.js';
export { startBackend, type RunningBackend } from './start-backend.js';
