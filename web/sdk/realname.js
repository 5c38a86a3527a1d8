// Placeholder: the JavaScript SDK is being written (issue 3).
export default {};
