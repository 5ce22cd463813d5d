export * from './slides.js';
