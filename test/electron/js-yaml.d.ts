// minimal typing for js-yaml (installed as a dependency of electron-builder; no @types package here)
declare module 'js-yaml' {
  export function load(text: string): unknown;
  const yaml: { load(text: string): unknown };
  export default yaml;
}
