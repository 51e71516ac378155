export * from './python-literal';
export * from './recon-dataset';
