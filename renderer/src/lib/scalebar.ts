/** Scale-bar maths: shared with the image exports, so it lives in the contract (pure TS). */
export * from '../../../main/contract/scalebar.js';
