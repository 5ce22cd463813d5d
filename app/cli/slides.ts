/**
 * The CLI's slides go through the same SlideService as the HTTP and Electron hosts (main/services): one open
 * path, one DTO, one region check. A command opens one slide, uses it, and closes everything.
 */
import { resolve } from 'node:path';
import type { SlideInfoDTO } from '../../main/contract/slides.js';
import { SlideServiceImpl } from '../../main/services/slide-service.js';
import { VERSION } from './version.js';

export interface CliSlide {
  service: SlideServiceImpl;
  id: string;
  info: SlideInfoDTO;
}

/** Opens `path` (relative to the working folder) in a fresh service, runs `fn`, closes the slide. */
export async function withSlide<T>(path: string, fn: (s: CliSlide) => Promise<T>): Promise<T> {
  // the CLI answers no contract requests: `host` is only what hostInfo() would report
  const service = new SlideServiceImpl({ host: 'http', version: VERSION });
  try {
    const info = await service.open({ path: resolve(path) });
    return await fn({ service, id: info.id, info });
  } finally {
    await service.closeAll();
  }
}

/** The slide's DTO as the CLI prints it: the hosts' SlideInfoDTO without the per-host id and URL. */
export function cliInfo(info: SlideInfoDTO): Omit<SlideInfoDTO, 'id' | 'dziUrl' | 'deepZoom'> {
  const { id: _id, dziUrl: _url, deepZoom: _dz, ...rest } = info;
  return rest;
}
