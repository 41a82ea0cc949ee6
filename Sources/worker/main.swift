print("powa-collector-worker: not yet")
