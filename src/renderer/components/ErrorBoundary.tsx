// A screen that fails to render says so, in officers' words, instead of leaving a blank window; the
// ceremony itself runs on in the main process, and another section (or Close) brings the screen back.
import { Component, type ReactNode } from 'react';

interface State {
  failed: string | null;
}

export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, State> {
  override state: State = { failed: null };

  static getDerivedStateFromError(error: unknown): State {
    return { failed: error instanceof Error ? error.name : 'Error' };
  }

  override componentDidUpdate(previous: { resetKey: string }): void {
    if (previous.resetKey !== this.props.resetKey && this.state.failed) this.setState({ failed: null });
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="error" role="alert">
        <strong>This screen could not be shown.</strong> Nothing was changed by it; any ceremony under way goes on. Open another section, then come back.
        <details>
          <summary>Technical detail</summary>
          <code>{this.state.failed}</code>
        </details>
      </div>
    );
  }
}
