export * from './slides.js';
export * from './analysis.js';
