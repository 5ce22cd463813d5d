export { createHandler, type HandlerDeps } from './handler.js';
export { CSP } from './respond.js';
