export * from './slides.js';
export * from './analysis.js';
export * from './annotations.js';
export * from './trust.js';
