export * from './slide-service.js';
export * from './errors.js';
export * from './recent.js';
export * from './dto.js';
export * from './analysis-service.js';
export * from './annotation-service.js';
export * from './host.js';
export * from './trust-service.js';
