/** Method registry: one instance per CamMethod. */
import type { CamMethod } from '../types.js';
import type { CamMethodImpl } from './base.js';
import { GradCam, GradCamPlusPlus, HiResCam, LayerCam, Saliency, XGradCam } from './cams.js';
import { EigenCam } from './eigen.js';

export const METHODS: Record<CamMethod, CamMethodImpl> = {
  'gradcam': new GradCam(),
  'hirescam': new HiResCam(),
  'gradcam++': new GradCamPlusPlus(),
  'xgradcam': new XGradCam(),
  'layercam': new LayerCam(),
  'eigencam': new EigenCam(),
  'saliency': new Saliency(),
};
export { CamMethodImpl } from './base.js';
