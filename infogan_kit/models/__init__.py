"""Pure nn.Modules: generators, discriminators, MI heads, encoders/decoders, latent specs."""
