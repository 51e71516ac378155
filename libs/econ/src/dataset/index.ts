export * from './python-literal';
export * from './recon-dataset';
export * from './stratified-sample';
